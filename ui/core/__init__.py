"""What every page shares: session state and its keys (``state``), whose session it is
(``session``), the server's cached resources (``resources``), the active dataset's caches
(``data``), saved runs as the pages show them (``runs``), the sidebar, error messages, and
how text, numbers and declared settings are shown (``text``, ``numbers``,
``settings_widgets``). Imports nothing else of ``ui``."""
