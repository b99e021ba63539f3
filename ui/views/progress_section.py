"""The Train page's Progress section, placed where a visitor who just pressed Start looks.

At 1280x800 the live panel drawn below the settings sat under the fold: nothing on
screen showed that a training had started. While this session follows a job the section
is drawn at the top of the page, right under the title; on the first page run after a
Start it is also scrolled into view (for a visitor who had scrolled down to the button).
The panel itself is :func:`ui.views.train_progress.live_panel` /
:func:`ui.views.train_progress.draw_snapshot`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from ui.views.train_progress import draw_snapshot, live_panel

if TYPE_CHECKING:
    from pipeline.jobs.manager import JobManager

#: The Progress heading's anchor (its element id in the page).
PROGRESS_ANCHOR = "progress"
#: Session state: set when a job was just submitted; the next page run scrolls once.
SCROLL_TO_PROGRESS = "train.scroll_to_progress"
#: Brings the Progress heading to the top of the view (Streamlit scrolls ``stMain``, not
#: the document; ``scrollIntoView`` scrolls whichever holds the heading).
_SCROLL_SCRIPT = f"""
<script>
requestAnimationFrame(() => {{
  const heading = document.getElementById("{PROGRESS_ANCHOR}");
  if (heading) heading.scrollIntoView({{block: "start"}});
}});
</script>
"""


def scroll_after_start() -> None:
    """Ask the next page run to scroll the Progress section into view (call before a
    submit, which reruns the page)."""
    st.session_state[SCROLL_TO_PROGRESS] = True


def progress_section(manager: JobManager, job_id: int | None) -> None:
    """The "Progress" heading and the followed job's panel: live while it waits or runs,
    its final state once done; a caption when there is no job (``job_id`` is ``None``).
    Scrolls it into view once after :func:`scroll_after_start`."""
    st.subheader("Progress", anchor=PROGRESS_ANCHOR)
    if job_id is None:
        st.caption("No training yet in this session. Pick settings above and press Start training.")
        return
    snapshot = manager.snapshot(job_id)
    if snapshot is not None and snapshot.done:
        draw_snapshot(manager, snapshot)
    else:
        live_panel(manager, job_id)
    if st.session_state.pop(SCROLL_TO_PROGRESS, False):
        st.html(_SCROLL_SCRIPT, unsafe_allow_javascript=True)
