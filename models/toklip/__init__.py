"""TokLIP modules, training recipe and ONNX exporter for TokLIP Studio."""

__version__ = "0.1.0"
