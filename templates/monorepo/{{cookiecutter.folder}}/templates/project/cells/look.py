{%- if starter == 'nlp' -%}
for text, label in list(zip(split.x_train, split.y_train))[:5]:
    print(f"{split.names[label]:>8}: {text}")
counts = np.bincount(split.y_train, minlength=len(split.names))
fig, ax = plt.subplots(figsize=(5, 3))
ax.bar(split.names, counts)
ax.set_xlabel("class")
ax.set_ylabel("training texts")
ax.set_title("Texts per class")
plt.show()
{%- elif starter == 'time-series' -%}
fig, ax = plt.subplots(figsize=(10, 3.5))
ax.plot(split.x_train, split.y_train, linewidth=0.8, label="train")
ax.plot(split.x_test, split.y_test, linewidth=0.8, label="test")
ax.set_xlabel("day")
ax.set_ylabel("value")
ax.set_title("The daily series, split in time")
ax.legend()
plt.show()
{%- elif images -%}
fig, axes = plt.subplots(1, 8, figsize=(12, 2))
for ax, image, label in zip(axes, split.x_train, split.y_train):
    ax.imshow(image.transpose(1, 2, 0).squeeze(), cmap="gray")
    ax.set_title(split.names[label])
    ax.axis("off")
fig.suptitle("A few training images and their labels")
plt.show()
{%- elif task == 'regression' -%}
x_flat = split.x_train.reshape(len(split.x_train), -1)
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.scatter(x_flat[:, 0], split.y_train, s=10, alpha=0.6)
ax.set_xlabel("feature 0")
ax.set_ylabel("target")
ax.set_title("The target against the first feature")
plt.show()
{%- else -%}
x_flat = split.x_train.reshape(len(split.x_train), -1)
fig, ax = plt.subplots(figsize=(5, 3.5))
for label, name in enumerate(split.names):
    ax.hist(x_flat[split.y_train == label, 0], bins=20, alpha=0.5, label=name)
ax.set_xlabel("feature 0")
ax.set_ylabel("count")
ax.set_title("The first feature, by class")
ax.legend()
plt.show()
{%- endif %}
