"""The names of the cookies the portal sets (listed for citizens on the cookies page)."""

SESSION_COOKIE = "frontdoor_session"
CSRF_COOKIE = "frontdoor_csrf"
