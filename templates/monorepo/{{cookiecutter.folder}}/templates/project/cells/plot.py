{%- if task == 'regression' -%}
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
{%- if kind != 'tabular' %}

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(range(1, len(losses) + 1), losses)
ax.set_xlabel("{{ 'epoch' if kind == 'vision' else 'step' }}")
ax.set_ylabel("training loss")
ax.set_title("Learning curve")
plt.show()
{%- endif %}
