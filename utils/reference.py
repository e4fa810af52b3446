"""Facts the notebooks quote, each with its source in ``shared/reference/``.

Introduced in ``00_start_here.ipynb``. Nothing here is a result of the lab: these are the
published figures the lab's own measurements are compared with.

Examples
--------
>>> THREAD["keras_public_f1"], THREAD["pytorch_f1_range"]
(50.1, (44.0, 46.0))
"""

from __future__ import annotations

# The Q&A thread, answer 1 (qa_thread_en.md; original: qa_thread_zh.txt). Percent F1.
THREAD = {
    "source": "shared/reference/qa_thread_en.md (answer 1), from qa_thread_zh.txt",
    # organisers' private test set; the data sheet (§5) could not confirm this figure
    "keras_private_f1": 50.7,
    "keras_public_f1": 50.1,  # public test set; all later numbers are public-test
    "keras_f1_range": (48.0, 50.0),  # other seeds
    "pytorch_f1_range": (44.0, 46.0),  # the same net in PyTorch
    "pytorch_hard_sigmoid_f1_range": (48.0, 50.0),  # PyTorch with Keras' hard sigmoid gates
}

# DCASE 2017 Task 4 Subtask A leaderboard, the readable part (dcase2017_task4.md §5):
# (system, eval F1 %, dev F1 % or None). The winner's figure is from the CVSSP abstract.
LEADERBOARD = (
    ("Xu_CVSSP (winner)", 55.6, None),
    ("Lee_SNU_task4_3", 52.6, 57.0),
    ("Lee_SNU_task4_1", 52.3, 47.6),
    ("Lee_SNU_task4_4", 52.1, 48.9),
    ("Chou_SINICA_task4_2", 49.0, None),
    ("Chou_SINICA_task4_3", 47.9, None),
    ("Lee_KAIST_task4_2", 47.3, 41.2),
    ("Adavanne_TUT_task4_2", 46.6, 43.2),
    ("Salamon_NYU_task4_1", 46.0, 45.9),
    ("Salamon_NYU_task4_2", 45.3, 44.0),
    ("Kukanov_UEF_task4_1", 39.6, 33.5),
    ("DCASE2017 baseline", 18.2, 10.9),
)
LEADERBOARD_SOURCE = ("shared/reference/dcase2017_task4.md §5 (DCASE 2017 Task 4 results "
                      "page, first part of the table only; winner from Xu et al., ICASSP 2018)")
