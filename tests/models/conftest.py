"""Engine tests run single-threaded: the tiny models gain nothing from threads, and on a loaded 2-core
machine torch's worker threads spin-wait and make each call 10-50x slower."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
