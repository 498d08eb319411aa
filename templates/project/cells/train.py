{%- if starter == 'nlp' -%}
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

model = make_pipeline(
    TfidfVectorizer(ngram_range=(1, 2), min_df=1 if SMOKE else 2, sublinear_tf=True),
    LogisticRegression(C=10.0, max_iter=300 if SMOKE else 2000),
)
model.fit(split.x_train, split.y_train)
model
{%- elif starter == 'time-series' -%}
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HORIZON = 7  # each day is forecast a week ahead: only values at least 7 days old are known
LAGS = range(HORIZON, 2 * HORIZON + 1)
days = np.concatenate([split.x_train, split.x_test])
values = np.concatenate([split.y_train, split.y_test])
day_number = days.astype(np.int64)  # days since 1970-01-01, a Thursday


def features(index):
    """One row per day in ``index``: its lags, weekday, time of year and trend."""
    lagged = np.stack([values[index - lag] for lag in LAGS], axis=1)
    weekday = np.eye(7)[(day_number[index] + 3) % 7]
    year = 2 * np.pi * day_number[index] / 365.25
    trend = (day_number[index] - day_number[0])[:, None] / 365.25
    return np.hstack([lagged, weekday, np.sin(year)[:, None], np.cos(year)[:, None], trend])


train_index = np.arange(max(LAGS), len(split.y_train))  # the first days lack their lags
test_index = np.arange(len(split.y_train), len(values))
model = make_pipeline(StandardScaler(), Ridge(alpha=1.0))
model.fit(features(train_index), values[train_index])
model
{%- elif starter == 'generative' -%}
import torch
from torch import nn

torch.manual_seed(seed)
shape = split.x_train.shape[1:]
pixels, latent = int(np.prod(shape)), 8
encoder = nn.Sequential(nn.Flatten(), nn.Linear(pixels, 128), nn.ReLU(), nn.Linear(128, latent))
decoder = nn.Sequential(
    nn.Linear(latent, 128), nn.ReLU(), nn.Linear(128, pixels), nn.Sigmoid(),
    nn.Unflatten(1, tuple(shape)),
)
model = nn.Sequential(encoder, decoder)
epochs = 2 if SMOKE else 100
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
loss_fn = nn.MSELoss()
x_train = torch.from_numpy(split.x_train)
losses = []
for epoch in range(epochs):
    model.train()
    order = torch.randperm(len(x_train))
    total = 0.0
    for start in range(0, len(order), 64):
        batch = x_train[order[start : start + 64]]
        optimizer.zero_grad()
        loss = loss_fn(model(batch), batch)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch)
    losses.append(total / len(order))
    if (epoch + 1) % 10 == 0 or epoch + 1 == epochs:
        print(f"epoch {epoch + 1}/{epochs}: reconstruction loss {losses[-1]:.4f}")
{%- elif starter == 'vision' -%}
import torch
from torch import nn

torch.manual_seed(seed)
channels = split.x_train.shape[1]
model = nn.Sequential(
    nn.Conv2d(channels, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
    nn.Flatten(), nn.Linear(32, len(split.names)),
)
epochs = 1 if SMOKE else 15
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()
x_train = torch.from_numpy(split.x_train)
y_train = torch.from_numpy(split.y_train).long()
losses = []
for epoch in range(epochs):
    model.train()
    order = torch.randperm(len(x_train))
    total = 0.0
    for start in range(0, len(order), 64):
        batch = order[start : start + 64]
        optimizer.zero_grad()
        loss = loss_fn(model(x_train[batch]), y_train[batch])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch)
    losses.append(total / len(order))
    print(f"epoch {epoch + 1}/{epochs}: training loss {losses[-1]:.4f}")
{%- elif starter == 'from-scratch' -%}
def standardise(train, test):
    mean, std = train.mean(axis=0), train.std(axis=0) + 1e-8
    return (train - mean) / std, (test - mean) / std


x_train, x_test = standardise(
    split.x_train.reshape(len(split.x_train), -1).astype(float),
    split.x_test.reshape(len(split.x_test), -1).astype(float),
)
learning_rate = 0.1
steps = 50 if SMOKE else 2000
{%- if task == 'regression' %}
y_mean = split.y_train.mean()
weights, bias = np.zeros(x_train.shape[1]), y_mean
losses = []
for step in range(steps):
    error = x_train @ weights + bias - split.y_train
    losses.append(float((error**2).mean()))
    # d/dw of mean squared error: 2/n X^T (Xw + b - y)
    weights -= learning_rate * 2 * x_train.T @ error / len(x_train)
    bias -= learning_rate * 2 * error.mean()
{%- else %}
classes = len(split.names)
weights, bias = np.zeros((x_train.shape[1], classes)), np.zeros(classes)
one_hot = np.eye(classes)[split.y_train]


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)  # stable: exp never overflows
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


losses = []
for step in range(steps):
    probabilities = softmax(x_train @ weights + bias)
    losses.append(float(-np.log(probabilities[np.arange(len(x_train)), split.y_train] + 1e-12).mean()))
    # d/dz of cross-entropy after softmax is (p - y); chain through z = Xw + b.
    gradient = (probabilities - one_hot) / len(x_train)
    weights -= learning_rate * x_train.T @ gradient
    bias -= learning_rate * gradient.sum(axis=0)
{%- endif %}
print(f"{steps} steps of gradient descent: loss {losses[0]:.4f} → {losses[-1]:.4f}")
{%- else -%}
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
{%- if task == 'regression' %}
from sklearn.linear_model import Ridge
{%- else %}
from sklearn.linear_model import LogisticRegression
{%- endif %}

x_train = split.x_train.reshape(len(split.x_train), -1)
x_test = split.x_test.reshape(len(split.x_test), -1)
{%- if task == 'regression' %}
model = make_pipeline(StandardScaler(), Ridge(alpha=1.0))
{%- else %}
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300 if SMOKE else 3000))
{%- endif %}
model.fit(x_train, split.y_train)
model
{%- endif %}
