"""Facts the notebooks quote, each with its source in ``docs/sources.md``.

Introduced in ``00_start_here.ipynb``. Nothing here is a result of the lab: these are the
published figures the lab's own measurements are compared with.

Examples
--------
>>> THREAD["keras_public_f1"], THREAD["pytorch_f1_range"]
(50.1, (44.0, 46.0))
"""

from __future__ import annotations

# The Q&A thread, answer 1 (docs/sources.md#qa-thread). Percent F1.
THREAD = {
    "source": "docs/sources.md#qa-thread (answer 1; a public Q&A thread, about 2018)",
    # organisers' private test set; the results page cannot confirm it (#dcase-results)
    "keras_private_f1": 50.7,
    "keras_public_f1": 50.1,  # public test set; all later numbers are public-test
    "keras_f1_range": (48.0, 50.0),  # other seeds
    "pytorch_f1_range": (44.0, 46.0),  # the same net in PyTorch
    "pytorch_hard_sigmoid_f1_range": (48.0, 50.0),  # PyTorch with Keras' hard sigmoid gates
}



def thread_gap() -> tuple[float, float]:
    """The thread's trained gap in F1 (not percent): its Keras figure on the public test set
    minus the PyTorch port's range.

    Examples
    --------
    >>> [round(g, 3) for g in thread_gap()]
    [0.041, 0.061]
    """
    low, high = THREAD["pytorch_f1_range"]
    return ((THREAD["keras_public_f1"] - high) / 100, (THREAD["keras_public_f1"] - low) / 100)


# DCASE 2017 Task 4 Subtask A leaderboard, the part the lab shows
# (docs/sources.md#dcase-results):
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
LEADERBOARD_SOURCE = ("docs/sources.md#dcase-results (DCASE 2017 Task 4 results page, "
                      "first part of the table only; winner from Xu et al., ICASSP 2018)")
