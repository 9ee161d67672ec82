import BigGANEngine
import BigGANCLI

OpenMPSettings.restartWithShortSpinIfNeeded()
BigGANCommand.main()
