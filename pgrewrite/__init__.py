"""pgrewrite: split the kernel's PAGE_SIZE family into PTE_* and PG_* names."""

__version__ = "0.1.0"
