from ssmdoc.cli import main

main()
