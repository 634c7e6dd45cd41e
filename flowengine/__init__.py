"""flowengine: Auth0 passwordless + MFA login as a resumable state machine."""
