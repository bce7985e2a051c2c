from irctl.cli import main

main()
