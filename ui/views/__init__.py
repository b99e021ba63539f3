"""The page logic, by page area: what a page decides to show, kept out of ``app_pages/`` so
tests can call it without a browser. ``class_sizes`` (Prepare, Train), ``train_settings``,
``train_progress`` and ``progress_section`` (Train), ``results``, ``paired``, ``slices``,
``mistakes``, ``run_link`` and ``report_download`` (Results), ``label_review``, ``playground``."""
