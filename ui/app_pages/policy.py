"""Page script run by st.navigation: hands the run's context to `ui.views.policy`."""

from ui.app_context import page_context
from ui.views import policy

policy.render(page_context())
