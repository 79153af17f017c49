"""Browser security reporting: where CSP and Integrity-Policy violation reports go (H-03)."""
