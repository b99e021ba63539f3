"""Headline Lab's pipeline: load, inspect, prepare, train, evaluate and predict.

Plain Python, no Streamlit. Modules that need TensorFlow (``text``, ``model``,
``train``, ``predict``, ``jobs``) import it themselves, so ``import pipeline``
and the data modules stay fast.
"""

__version__ = "0.1.0"
