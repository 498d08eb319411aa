import matplotlib.pyplot as plt
import numpy as np

import data
import hundred

SMOKE = profile == "smoke"
np.random.seed(seed)
