# Parameters: `hundred run` injects the chosen profile's values after this cell.
profile = "full"  # "smoke" proves the notebook runs on tiny data; "full" is the real experiment
seed = 0
