"""All demo seeding in one place: the organisation (tenancy), catalogue, stock and commerce
history, members, and the behavioural traffic the simulator sends once the server is up."""
