"""What the pharmacist-in-charge shows an inspector: the monthly report (figures, PDF, CSV)."""
