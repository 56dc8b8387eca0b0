from fanbase.cli import main

main()
