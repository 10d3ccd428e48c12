from knightvision.cli import main

main()
