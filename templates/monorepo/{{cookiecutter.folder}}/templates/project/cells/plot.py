{%- if starter == 'time-series' -%}
fig, (whole, weeks) = plt.subplots(2, 1, figsize=(10, 6.5))
test_days = days[test_index]
whole.plot(test_days, values[test_index], linewidth=0.8, label="actual")
whole.plot(test_days, forecast, linewidth=0.8, label="forecast")
whole.set_xlabel("day")
whole.set_ylabel("value")
whole.set_title("Forecasts a week ahead over the test split")
whole.legend()
first = slice(0, 42)  # six weeks, close enough to see the days
weeks.plot(test_days[first], values[test_index][first], marker=".", label="actual")
weeks.plot(test_days[first], forecast[first], marker=".", label="forecast")
weeks.plot(test_days[first], naive[first], linestyle="--", label="seasonal naive")
weeks.set_xlabel("day")
weeks.set_ylabel("value")
weeks.set_title("The first six weeks, with the seasonal-naive baseline")
weeks.legend()
fig.tight_layout()
plt.show()
{%- elif starter == 'generative' -%}
def show(ax, image):
    ax.imshow(image.transpose(1, 2, 0).squeeze(), cmap="gray", vmin=0, vmax=1)
    ax.axis("off")


fig, axes = plt.subplots(2, 8, figsize=(12, 3.4))
for column in range(8):
    show(axes[0, column], split.x_test[column])
    show(axes[1, column], reconstructions[column].numpy())
fig.suptitle("Test images (top) and their reconstructions (bottom)")
plt.show()

with torch.no_grad():
    codes = encoder(torch.from_numpy(split.x_train)).numpy()
    rng = np.random.default_rng(seed)
    drawn = rng.multivariate_normal(codes.mean(axis=0), np.cov(codes, rowvar=False), size=8)
    samples = decoder(torch.from_numpy(drawn.astype(np.float32))).numpy()
    other = int(np.argmax(split.y_test != split.y_test[0]))  # a test image of another class
    ends = encoder(x_test[[0, other]])
    steps = torch.linspace(0, 1, 8)[:, None]
    between = decoder((1 - steps) * ends[0] + steps * ends[1]).numpy()
fig, axes = plt.subplots(2, 8, figsize=(12, 3.4))
for column in range(8):
    show(axes[0, column], samples[column])
    show(axes[1, column], between[column])
fig.suptitle("Decoded from random codes (top) and from codes between two test images (bottom)")
plt.show()
{%- elif task == 'regression' -%}
fig, ax = plt.subplots(figsize=(4.5, 4.5))
ax.scatter(split.y_test, predictions, s=12, alpha=0.7)
low, high = split.y_test.min(), split.y_test.max()
ax.plot([low, high], [low, high], color="grey", linestyle="--", label="perfect")
ax.set_xlabel("true value")
ax.set_ylabel("predicted value")
ax.set_title("Predictions on the test split")
ax.legend()
plt.show()
{%- else -%}
from sklearn.metrics import ConfusionMatrixDisplay

fig, ax = plt.subplots(figsize=(5, 5))
ConfusionMatrixDisplay.from_predictions(
    split.y_test, predictions, labels=range(len(split.names)), display_labels=split.names,
    ax=ax, colorbar=False,
)
ax.set_title("Confusion matrix on the test split")
plt.show()
{%- endif %}
{%- if starter == 'nlp' %}

vectorizer, classifier = model[0], model[-1]
words = vectorizer.get_feature_names_out()
# With two classes, scikit-learn keeps one row of weights: the second class's; the first's is -w.
weights = classifier.coef_ if len(classifier.classes_) > 2 else np.vstack(
    [-classifier.coef_[0], classifier.coef_[0]])
fig, axes = plt.subplots(1, len(weights), figsize=(4 * len(weights), 3.5))
for ax, label, row in zip(axes, classifier.classes_, weights):
    top = np.argsort(row)[-8:]
    ax.barh(words[top], row[top])
    ax.set_xlabel("weight")
    ax.set_title(split.names[label])
fig.suptitle("The words and word pairs each class leans on most")
fig.tight_layout()
plt.show()
{%- endif %}
{%- if starter in ['vision', 'from-scratch', 'generative'] %}

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(range(1, len(losses) + 1), losses)
ax.set_xlabel("{{ 'step' if starter == 'from-scratch' else 'epoch' }}")
ax.set_ylabel("training loss")
ax.set_title("Learning curve")
plt.show()
{%- endif %}
