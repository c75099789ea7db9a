// TQL grammar. The C++ parser is generated from this file at build time (never committed).
// This first version covers a source and the `take`/`limit` stage; the language issue extends
// it to the whole of docs/language.md.
grammar Tql;

query
    : pipeline SEMI? EOF
    ;

pipeline
    : source (PIPE stage)*
    ;

source
    : name
    ;

stage
    : (TAKE | LIMIT) INTEGER     # takeStage
    ;

name
    : IDENT (DOT IDENT)*
    | BACKTICK_IDENT
    ;

// Keywords are case-insensitive.
TAKE  : T A K E ;
LIMIT : L I M I T ;

PIPE : '|' ;
SEMI : ';' ;
DOT  : '.' ;

INTEGER        : [0-9] ('_'? [0-9])* ;
IDENT          : [A-Za-z_@] [A-Za-z0-9_@]* ;
BACKTICK_IDENT : '`' ~[`\r\n]+ '`' ;

LINE_COMMENT  : '//' ~[\r\n]* -> channel(HIDDEN) ;
BLOCK_COMMENT : '/*' .*? '*/' -> channel(HIDDEN) ;
WS            : [ \t\r\n]+ -> skip ;

// Anything else is one bad character, reported by the parser with its position.
ERROR_CHAR : . ;

fragment A : [aA] ; fragment E : [eE] ; fragment I : [iI] ; fragment K : [kK] ;
fragment L : [lL] ; fragment M : [mM] ; fragment T : [tT] ;
