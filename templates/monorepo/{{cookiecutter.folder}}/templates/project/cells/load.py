split = data.load(limit=256 if SMOKE else None, seed=seed)
print(f"train {split.x_train.shape}, test {split.x_test.shape}")
