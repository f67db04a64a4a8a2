from selfmodel.cli import main

main()
