"""The flowmon dashboard: ``panel serve dashboards/flowmon_app.py``.

Reads the data folder named by $FLOWMON_DATA_DIR (default: the checkout's data/demo). Filters travel in
the URL: ``?office=KRT&start=2024-01&end=2024-06&stream=return``.
"""

import flowmon
from flowmon import memory

flowmon.Dashboard.from_environment().servable(title="flowmon")
memory.release_when_closed()
