// The TQL grammar (docs/language.md). The C++ parser is generated from this file at build time
// and never committed. Precedence is encoded by rule nesting, lowest first:
// or · and · not · comparison · + - · * / % · unary - · call, member, index.
grammar Tql;


query
    : letStatement* pipeline SEMI? EOF
    ;

letStatement
    : LET identifier ASSIGN expression SEMI
    ;

pipeline
    : source (PIPE stage)*
    ;

source
    : UNION unionBody      # unionSource
    | name                 # namedSource
    ;

unionBody
    : (WITHSOURCE ASSIGN identifier)? name (COMMA name)*
    ;

stage
    : (WHERE | FILTER) expression                                         # whereStage
    | SEARCH searchOptions STRING (IN LPAREN name (COMMA name)* RPAREN)?  # searchStage
    | EXTEND assignment (COMMA assignment)*                               # extendStage
    | PROJECT projectItem (COMMA projectItem)*                            # projectStage
    | PROJECT_AWAY name (COMMA name)*                                     # projectAwayStage
    | PROJECT_RENAME renameItem (COMMA renameItem)*                       # projectRenameStage
    | SUMMARIZE (namedExpression (COMMA namedExpression)*)?
      (BY namedExpression (COMMA namedExpression)*)?                      # summarizeStage
    | (SORT | ORDER) BY sortItem (COMMA sortItem)*                        # sortStage
    | (TAKE | LIMIT) count=rowCount                                       # takeStage
    | TOP count=rowCount (BY sortItem (COMMA sortItem)*)?                 # topStage
    | DISTINCT namedExpression (COMMA namedExpression)*                   # distinctStage
    | COUNT                                                               # countStage
    | MATCH spansetExpression                                             # matchStage
    | JOIN (KIND ASSIGN joinKind=identifier)? LPAREN pipeline RPAREN
      ON expression (COMMA expression)*                                   # joinStage
    | UNION unionBody                                                     # unionStage
    ;

searchOptions
    : (MATCHCASE | REGEX)*
    ;

rowCount
    : INTEGER
    | PARAMETER
    ;

assignment
    : name ASSIGN expression
    ;

// `EXPR`, `EXPR as NAME` or `NAME = EXPR`.
namedExpression
    : name ASSIGN expression
    | expression (AS name)?
    ;

projectItem
    : namedExpression
    ;

renameItem
    : name ASSIGN name
    ;

sortItem
    : expression (ASC | DESC)? (NULLS (FIRST | LAST))?
    ;

// Spanset expressions (traces): || lowest, then &&, then the structural operators.
spansetExpression
    : spansetAnd (OR spansetAnd)*
    ;

spansetAnd
    : spansetStructural (AND spansetStructural)*
    ;

spansetStructural
    : spansetPrimary (structuralOperator spansetPrimary)*
    ;

structuralOperator
    : GT | GTGT | LT | LTLT | TILDE | NOT_GT | NOT_GTGT | NOT_LT | NOT_LTLT | NOT_MATCHES
    ;

spansetPrimary
    : LBRACE expression? RBRACE                      # spansetFilter
    | LPAREN spansetExpression RPAREN                # spansetParens
    ;

expression
    : andExpression (OR andExpression)*
    ;

// `not` is a flat prefix list on each operand (no recursion, and one rule level fewer):
// `not not x` is two negations.
andExpression
    : NOT* comparison (AND NOT* comparison)*
    ;

comparison
    : additive comparisonTail?
    ;

comparisonTail
    : comparisonOperator additive                                   # compareTail
    | (IN | NOT_IN) LPAREN expressionList RPAREN                    # inTail
    | (BETWEEN | NOT_BETWEEN) LPAREN additive DOTDOT additive RPAREN  # betweenTail
    ;

comparisonOperator
    : EQ | NEQ | LT | LE | GT | GE | MATCHES | NOT_MATCHES
    | CONTAINS | NOT_CONTAINS | CONTAINS_CS | NOT_CONTAINS_CS
    | HAS | NOT_HAS | HAS_CS | NOT_HAS_CS
    | STARTSWITH | NOT_STARTSWITH | STARTSWITH_CS | NOT_STARTSWITH_CS
    | ENDSWITH | NOT_ENDSWITH | ENDSWITH_CS | NOT_ENDSWITH_CS
    ;

expressionList
    : expression (COMMA expression)*
    ;

additive
    : multiplicative ((PLUS | MINUS) multiplicative)*
    ;

// Unary minus and plus are a flat prefix list on each operand: `- - x` is two negations.
multiplicative
    : (MINUS | PLUS)* postfix ((STAR | SLASH | PERCENT) (MINUS | PLUS)* postfix)*
    ;

// `x[i]`, `x["key"]` and `x.key` read into dynamic values. A dotted name (`http.status_code`)
// is an identifier followed by `.identifier`s, which the AST builder joins into one name; the
// grammar spells it this way so that names and member access do not compete.
postfix
    : primary (LBRACKET expression RBRACKET | DOT identifier)*
    ;

primary
    : literal                                               # literalPrimary
    | PARAMETER                                             # parameterPrimary
    | identifier LPAREN expressionList? RPAREN              # callPrimary
    | identifier                                            # namePrimary
    | LPAREN expression RPAREN                              # parensPrimary
    ;

literal
    : INTEGER | FLOAT | DURATION | BAD_DURATION | STRING | DATETIME | TRUE_LITERAL | FALSE_LITERAL | NULL_LITERAL
    ;

name
    : identifier (DOT identifier)*
    ;

// Names that are also keywords somewhere stay usable as column names (`kind`, `count`, ...).
identifier
    : IDENT | BACKTICK_IDENT
    | WHERE | FILTER | SEARCH | EXTEND | PROJECT | SUMMARIZE | SORT | ORDER | TAKE | LIMIT
    | TOP | DISTINCT | COUNT | MATCH | JOIN | KIND | ON | WITHSOURCE | MATCHCASE
    | REGEX | ASC | DESC | NULLS | FIRST | LAST
    ;

// ---------------------------------------------------------------------------------------------
// Lexer. Keywords are case-insensitive.

LET        : L E T ;
WHERE      : W H E R E ;
FILTER     : F I L T E R ;
SEARCH     : S E A R C H ;
MATCHCASE  : M A T C H C A S E ;
REGEX      : R E G E X ;
EXTEND     : E X T E N D ;
PROJECT_AWAY   : P R O J E C T '-' A W A Y ;
PROJECT_RENAME : P R O J E C T '-' R E N A M E ;
PROJECT    : P R O J E C T ;
SUMMARIZE  : S U M M A R I Z E ;
BY         : B Y ;
SORT       : S O R T ;
ORDER      : O R D E R ;
ASC        : A S C ;
DESC       : D E S C ;
NULLS      : N U L L S ;
FIRST      : F I R S T ;
LAST       : L A S T ;
TAKE       : T A K E ;
LIMIT      : L I M I T ;
TOP        : T O P ;
DISTINCT   : D I S T I N C T ;
COUNT      : C O U N T ;
MATCH      : M A T C H ;
JOIN       : J O I N ;
KIND       : K I N D ;
ON         : O N ;
UNION      : U N I O N ;
WITHSOURCE : W I T H S O U R C E ;
AS         : A S ;

AND        : A N D | '&&' ;
OR         : O R | '||' ;
NOT        : N O T | '!' ;
IN         : I N ;
NOT_IN     : '!' I N ;
BETWEEN    : B E T W E E N ;
NOT_BETWEEN: '!' B E T W E E N ;
TRUE_LITERAL  : T R U E ;
FALSE_LITERAL : F A L S E ;
NULL_LITERAL  : N U L L ;

CONTAINS          : C O N T A I N S ;
NOT_CONTAINS      : '!' C O N T A I N S ;
CONTAINS_CS       : C O N T A I N S '_' C S ;
NOT_CONTAINS_CS   : '!' C O N T A I N S '_' C S ;
HAS               : H A S ;
NOT_HAS           : '!' H A S ;
HAS_CS            : H A S '_' C S ;
NOT_HAS_CS        : '!' H A S '_' C S ;
STARTSWITH        : S T A R T S W I T H ;
NOT_STARTSWITH    : '!' S T A R T S W I T H ;
STARTSWITH_CS     : S T A R T S W I T H '_' C S ;
NOT_STARTSWITH_CS : '!' S T A R T S W I T H '_' C S ;
ENDSWITH          : E N D S W I T H ;
NOT_ENDSWITH      : '!' E N D S W I T H ;
ENDSWITH_CS       : E N D S W I T H '_' C S ;
NOT_ENDSWITH_CS   : '!' E N D S W I T H '_' C S ;

// `datetime(2026-11-24T10:00:00Z)`: the text inside is not an expression.
DATETIME : D A T E T I M E [ \t]* '(' [ \t]* [0-9] ~[)\r\n]* ')' ;

EQ          : '==' ;
NEQ         : '!=' | '<>' ;
LE          : '<=' ;
GE          : '>=' ;
MATCHES     : '=~' ;
NOT_MATCHES : '!~' ;  // also "not sibling" between spansets
GTGT        : '>>' ;
LTLT        : '<<' ;
NOT_GTGT    : '!>>' ;
NOT_LTLT    : '!<<' ;
NOT_GT      : '!>' ;
NOT_LT      : '!<' ;
GT          : '>' ;
LT          : '<' ;
TILDE       : '~' ;
ASSIGN      : '=' ;
PIPE        : '|' ;
SEMI        : ';' ;
COMMA       : ',' ;
DOTDOT      : '..' ;
DOT         : '.' ;
LPAREN      : '(' ;
RPAREN      : ')' ;
LBRACKET    : '[' ;
RBRACKET    : ']' ;
LBRACE      : '{' ;
RBRACE      : '}' ;
PLUS        : '+' ;
MINUS       : '-' ;
STAR        : '*' ;
SLASH       : '/' ;
PERCENT     : '%' ;

// A number with a duration unit; a number followed by any other letters is a BAD_DURATION,
// reported as an unknown unit (longest match picks it over DURATION: `5mins`).
DURATION     : NUMBER ('d' | 'h' | 'm' | 's' | 'ms' | 'us' | '\u00B5s' | '\u03BCs' | 'ns') ;
FLOAT        : DIGITS '.' DIGITS EXPONENT? | DIGITS EXPONENT | '.' DIGITS EXPONENT? ;
INTEGER      : DIGITS ;
BAD_DURATION : NUMBER [a-zA-Z\u00B5]+ ;

STRING
    : '"' (ESCAPE | ~["\\\r\n])* '"'
    | '\'' (ESCAPE | ~['\\\r\n])* '\''
    ;
// Reported by the parser as an unterminated string.
UNTERMINATED_STRING
    : '"' (ESCAPE | ~["\\\r\n])*
    | '\'' (ESCAPE | ~['\\\r\n])*
    ;

PARAMETER      : '$' [A-Za-z_] [A-Za-z0-9_]* ;
IDENT          : [A-Za-z_@] [A-Za-z0-9_@]* ;
BACKTICK_IDENT : '`' ~[`\r\n]+ '`' ;
UNTERMINATED_BACKTICK : '`' ~[`\r\n]* ;

LINE_COMMENT  : '//' ~[\r\n]* -> channel(HIDDEN) ;
BLOCK_COMMENT : '/*' .*? '*/' -> channel(HIDDEN) ;
UNTERMINATED_COMMENT : '/*' ( ~[*] | '*'+ ~[*/] )* '*'* EOF ;
WS            : [ \t\r\n]+ -> skip ;

// Anything else is one bad character, reported by the parser with its position.
ERROR_CHAR : . ;

fragment NUMBER   : DIGITS ('.' DIGITS)? | '.' DIGITS ;
fragment DIGITS   : [0-9] ('_'? [0-9])* ;
fragment EXPONENT : [eE] [+-]? [0-9]+ ;
fragment ESCAPE   : '\\' ( ["'\\/bfnrt0] | 'u' HEX HEX HEX HEX | ~[\r\n] ) ;
fragment HEX      : [0-9a-fA-F] ;

fragment A : [aA] ; fragment B : [bB] ; fragment C : [cC] ; fragment D : [dD] ;
fragment E : [eE] ; fragment F : [fF] ; fragment G : [gG] ; fragment H : [hH] ;
fragment I : [iI] ; fragment J : [jJ] ; fragment K : [kK] ; fragment L : [lL] ;
fragment M : [mM] ; fragment N : [nN] ; fragment O : [oO] ; fragment P : [pP] ;
fragment Q : [qQ] ; fragment R : [rR] ; fragment S : [sS] ; fragment T : [tT] ;
fragment U : [uU] ; fragment V : [vV] ; fragment W : [wW] ; fragment X : [xX] ;
fragment Y : [yY] ; fragment Z : [zZ] ;
