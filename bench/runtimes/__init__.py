"""The contestants: the benchmarked cells' weights, and lnfast, the floor,
PyTorch eager, TorchScript and ONNX Runtime as runtimes timed the same way."""
