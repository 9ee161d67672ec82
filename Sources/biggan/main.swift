import BigGANCLI

BigGANCommand.main()
