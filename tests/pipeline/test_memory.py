"""The malloc arena cap and the memory release of a training process (glibc)."""

from __future__ import annotations

import subprocess
import sys

from pipeline.core.memory import limit_malloc_arenas, release_free_memory


def test_the_arena_cap_is_set_on_glibc_and_the_release_runs():
    assert limit_malloc_arenas() is True  # this project runs on glibc Linux
    release_free_memory()


def test_a_process_that_frees_a_big_heap_hands_it_back_after_the_release():
    # Many small blocks live in malloc's heap (not mmap): freeing them leaves the pages
    # mapped until malloc_trim gives them back.
    script = (
        "import resource, sys\n"
        "from pipeline.core.memory import release_free_memory\n"
        "def rss():\n"
        "    return int(open('/proc/self/statm').read().split()[1]) * resource.getpagesize()\n"
        "blocks = [bytearray(512) for _ in range(400_000)]\n"
        "del blocks[:300_000]\n"
        "before = rss()\n"
        "release_free_memory()\n"
        "print(before - rss())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd="."
    )
    assert int(out.stdout) > 50 * 2**20


def test_only_a_large_jobs_memory_is_handed_back():
    """A small job's buffers are a few MB; a full collection of a long-lived process costs
    more than that gives back, so only jobs of RELEASE_MIN_ROWS rows or more release."""
    from pipeline.core.memory import RELEASE_MIN_ROWS, release_free_memory_if_large

    assert release_free_memory_if_large(RELEASE_MIN_ROWS - 1) is False
    assert release_free_memory_if_large(RELEASE_MIN_ROWS) is True
