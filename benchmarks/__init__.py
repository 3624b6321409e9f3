"""Speed and accuracy measurements; run each as `python -m benchmarks.<name>` from the project root."""
