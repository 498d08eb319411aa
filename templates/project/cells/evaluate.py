{%- if starter == 'time-series' -%}
forecast = model.predict(features(test_index))
naive = values[test_index - HORIZON]  # seasonal naive: the same weekday a week before
mae = float(np.abs(forecast - values[test_index]).mean())
naive_mae = float(np.abs(naive - values[test_index]).mean())
hundred.record("mae", mae, higher_is_better=False)
hundred.record("mae_vs_seasonal_naive", mae / naive_mae, higher_is_better=False)
print(f"test MAE {mae:.3f}; seasonal naive {naive_mae:.3f}: the model errs {mae / naive_mae:.0%} as much")
{%- elif starter == 'generative' -%}
model.eval()
x_test = torch.from_numpy(split.x_test)
with torch.no_grad():
    reconstructions = model(x_test)
reconstruction_mse = float(((reconstructions - x_test) ** 2).mean())
hundred.record("reconstruction_mse", reconstruction_mse, higher_is_better=False)
{%- else -%}
{%- if starter == 'vision' -%}
model.eval()
with torch.no_grad():
    predictions = model(torch.from_numpy(split.x_test)).argmax(dim=1).numpy()
{%- elif starter == 'nlp' -%}
predictions = model.predict(split.x_test)
{%- elif starter == 'from-scratch' -%}
{%- if task == 'regression' %}
predictions = x_test @ weights + bias
{%- else %}
predictions = (x_test @ weights + bias).argmax(axis=1)
{%- endif %}
{%- else -%}
predictions = model.predict(x_test)
{%- endif %}
{%- if task == 'regression' %}
residual = ((split.y_test - predictions) ** 2).sum()
r2 = 1 - residual / ((split.y_test - split.y_test.mean()) ** 2).sum()
hundred.record("r2", float(r2))
{%- else %}
accuracy = float((predictions == split.y_test).mean())
hundred.record("accuracy", accuracy)
{%- endif %}
{%- endif %}
