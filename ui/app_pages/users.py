"""Page script run by st.navigation: hands the run's context to `ui.views.users`."""

from ui.app_context import page_context
from ui.views import users

users.render(page_context())
