"""The MILP engine: the model as arrays, solved by HiGHS or CBC, and exported as LP/MPS."""
