"""Who is using the portal: citizens signed in with the national identity service (OpenID
Connect), their server-side sessions, and signing out (here, at the provider, everywhere)."""
