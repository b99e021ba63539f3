"""How many test rows a class needs for its scores to mean something, and what to do about
a class with fewer: one rule and one advice, used before training (Prepare and Train, from
the prepared test split) and after it (Results and the CLI, from a run's test report).
No pandas, no TensorFlow."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pipeline.core.config import DataConfig

#: Fewer test rows than this make a class's precision, recall and F1 too noisy to read.
MIN_TEST_ROWS_PER_CLASS = 30

#: Thin classes named in a warning, fewest test rows first; the rest are counted.
NAMED_THIN_CLASSES = 5

#: Names a data setting as the reader sets it: ``(field, value)`` to e.g. ``"--test-size"``
#: or ``"--test-set stratified"`` (the CLI), ``"**Test share**"`` (a page); ``value`` is
#: ``None`` for the setting alone.
SettingNamer = Callable[..., str]


def thin_classes(test_rows: Mapping[str, int]) -> dict[str, int]:
    """``{code: test rows}`` of the classes in ``test_rows`` (``{code: test rows}``) with
    fewer than :data:`MIN_TEST_ROWS_PER_CLASS` test rows, fewest first (ties in their order)."""
    thin = {code: int(n) for code, n in test_rows.items() if n < MIN_TEST_ROWS_PER_CLASS}
    return dict(sorted(thin.items(), key=lambda item: item[1]))


def thin_classes_listing(thin: Mapping[str, int], name: Callable[[str], str]) -> str:
    """The first :data:`NAMED_THIN_CLASSES` of ``thin`` (:func:`thin_classes`' result) as
    ``"Name (12), Other (14) and 3 more"``, each code shown as ``name(code)``."""
    shown = [f"{name(code)} ({rows})" for code, rows in list(thin.items())[:NAMED_THIN_CLASSES]]
    more = len(thin) - len(shown)
    return ", ".join(shown) + (f" and {more:,} more" if more else "")


def thin_classes_remedy(config: DataConfig, setting: SettingNamer) -> str:
    """What to do about classes with too few test rows, for data prepared with ``config``:
    one sentence naming each setting through ``setting(field)`` or ``setting(field, value)``.

    Every run is told to merge, fill or drop its small classes (raise ``min_class_rows``)
    and that a bigger ``test_size`` helps; the rest only where it would: a higher
    ``cap_per_class`` when classes are capped, ``balance`` by class weights when every
    class is cut to the smallest, and the stratified ``test_set`` when the test set is the
    balanced one (every class as small as the smallest there)."""
    helps = [f"a bigger {setting('test_size')}"]
    if config.balance == "cap":
        helps.append(f"a higher {setting('cap_per_class')}")
    if config.balance == "downsample":
        helps.append(setting("balance", "class_weights"))
    if config.test_set == "balanced":
        helps.append(setting("test_set", "stratified"))
    listed = helps[0] if len(helps) == 1 else ", ".join(helps[:-1]) + " or " + helps[-1]
    return (
        "Merge small classes into bigger ones, add more rows for them, or drop them (raise "
        f"{setting('min_class_rows')}); {listed} also helps."
    )
