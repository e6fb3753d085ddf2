"""DLDL-v2: label distribution learning with expectation regression (Gao et al., 2020)."""
