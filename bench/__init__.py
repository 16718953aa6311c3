"""Benchmarks, run by hand against PostgreSQL; results and commands in docs/benchmarks.md."""

# The product's code and templates: a run records their state so that a figure names what it
# measured.
PRODUCT_CODE = (
    "careinbox",
    "channels",
    "staff",
    "customers",
    "sla",
    "routing",
    "cases",
    "notifications",
    "casework",
    "intake",
    "workspace",
    "reporting",
    "legacy",
    "templates",
)
