import ArgumentParser

HarnessCommand.main()
