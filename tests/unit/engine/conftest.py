import pandas as pd
import pytest
from support.engine_frames import scenario_frame


@pytest.fixture
def frame() -> pd.DataFrame:
    return scenario_frame()
