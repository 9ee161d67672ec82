print("biggan-train: not yet implemented")
