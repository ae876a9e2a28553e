from eggshield.cli.main import main

main()
