import BigGANEngine
import BigGANCLI

OpenMPSettings.restartWithPassiveWaitIfNeeded()
BigGANCommand.main()
