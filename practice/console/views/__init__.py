"""The console's views, one module per area; `practice.console.pages` registers them."""
