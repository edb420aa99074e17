from ssmdoc.entry import main

main()
