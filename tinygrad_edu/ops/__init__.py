"""The differentiable ops, one file per family; each op is one `Function` subclass."""
