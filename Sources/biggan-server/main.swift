print("biggan-server")
