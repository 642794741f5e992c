"""The app that ``panel serve`` runs for ``flowmon serve`` (data folder from $FLOWMON_DATA_DIR)."""

import flowmon

flowmon.Dashboard.from_environment().servable(title="flowmon")
