"""A minimal Django project receiving the webhooks of all four vendors, verified by examkit."""
