"""The optimizers a training can use, built from the model settings.

``adam`` is the seed's: every weight moves at every step. ``lazy_adamw`` is AdamW
whose embedding rows move only at the steps whose batch holds their ids. The bag's
n-gram table (600,000 rows on UCI) is nearly all of its weights, and a batch
touches a few thousand rows of it: dense Adam reads and writes the whole table,
its two moment tables and its weight decay at every step, which is most of a step
on a CPU. Updating the touched rows alone makes a step several times cheaper and,
with the decoupled weight decay, generalizes better (measured with
``benchmarks/models.py``; the README has the numbers).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from pipeline.core.config import ModelConfig


@keras.saving.register_keras_serializable(package="headline_lab")
class LazyAdamW(keras.optimizers.AdamW):
    """AdamW with sparse ("lazy") updates of the rows an embedding lookup touched.

    A dense gradient gets AdamW's own update. A gradient that arrives as
    ``tf.IndexedSlices`` (an embedding's) updates only the rows it names: their two
    moments, their decoupled weight decay and their step; the other rows, their
    moments included, are left as they are. TensorFlow backend only (``IndexedSlices``).
    """

    def update_step(self, gradient, variable, learning_rate):
        """Decay, then move ``variable`` (all of it, or the rows ``gradient`` names)."""
        if not isinstance(gradient, tf.IndexedSlices):
            self._decay(variable, learning_rate)
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        lr = tf.cast(learning_rate, dtype)
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        alpha = lr * tf.sqrt(1 - tf.pow(beta_2, step)) / (1 - tf.pow(beta_1, step))
        # One row per id: a batch names an id as often as it occurs.
        rows, position = tf.unique(gradient.indices)
        values = tf.math.unsorted_segment_sum(
            tf.cast(gradient.values, dtype), position, tf.shape(rows)[0]
        )
        index = self._get_variable_index(variable)
        momentum, velocity = (
            _tf_variable(self._momentums[index]),
            _tf_variable(self._velocities[index]),
        )
        momentum_rows = beta_1 * tf.gather(momentum, rows) + (1 - beta_1) * values
        velocity_rows = beta_2 * tf.gather(velocity, rows) + (1 - beta_2) * tf.square(values)
        momentum.scatter_update(tf.IndexedSlices(momentum_rows, rows))
        velocity.scatter_update(tf.IndexedSlices(velocity_rows, rows))
        weights = _tf_variable(variable)
        weight_rows = tf.gather(weights, rows)
        change = alpha * momentum_rows / (tf.sqrt(velocity_rows) + self.epsilon)
        if self.weight_decay and self._use_weight_decay(variable):
            change += lr * tf.cast(self.weight_decay, dtype) * weight_rows
        # The rows are unique, so writing the new rows is subtracting the change; but a
        # scatter_sub (a read-modify-write under the variable's lock) made the default's
        # epochs on the bundled data a fifth slower: 1.52 s against 1.19 s, CPU 2.71 s
        # against 2.07 s (Keras' fit, epochs alternated in one process, the same weights).
        weights.scatter_update(tf.IndexedSlices(weight_rows - change, rows))

    def _apply_weight_decay(self, variables):
        # Every variable decays in update_step: sparse ones row by row.
        return None

    def _decay(self, variable, learning_rate) -> None:
        if self.weight_decay and self._use_weight_decay(variable):
            lr = tf.cast(learning_rate, variable.dtype)
            variable.assign_sub(variable * tf.cast(self.weight_decay, variable.dtype) * lr)


def build_optimizer(
    config: ModelConfig, learning_rate: float | None = None
) -> keras.optimizers.Optimizer:
    """The optimizer ``config.optimizer`` names, at ``learning_rate`` (by default
    ``config.learning_rate``; :func:`pipeline.core.config.resolve_learning_rate` gives a
    fit's), with ``config.weight_decay`` for ``lazy_adamw``."""
    rate = config.learning_rate if learning_rate is None else learning_rate
    if config.optimizer == "lazy_adamw":
        return LazyAdamW(learning_rate=rate, weight_decay=config.weight_decay)
    return keras.optimizers.Adam(learning_rate=rate)


def _tf_variable(variable):
    """The ``tf.Variable`` behind a Keras variable (update_step may get either)."""
    return variable.value if isinstance(variable, keras.Variable) else variable
