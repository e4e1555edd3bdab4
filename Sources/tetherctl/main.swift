TetherctlCommand.main()
