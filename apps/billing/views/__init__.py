"""Portal pages of billing, one module per area (invoices and credits, payments, costs and budgets)."""
